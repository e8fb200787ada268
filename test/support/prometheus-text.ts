// A strict reader of the Prometheus text exposition format (version 0.0.4), for asserting scrapes:
// every line must be a HELP, a TYPE or a sample of a declared family, or parsing throws naming it.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;
/** What Go's ParseFloat (Prometheus' reader) takes, hex floats aside: NaN and Inf in any case. */
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]?(?:inf|infinity)|nan)$/i;

/** Suffixes a sample of a family of this type may carry after the family name. */
const SUFFIXES: Record<MetricType, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

const unescape = (value: string): string => value.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));

function parseValue(text: string, line: string): number {
  if (!VALUE.test(text)) throw new Error(`bad sample value in: ${line}`);
  if (/inf/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return /nan/i.test(text) ? NaN : Number(text);
}

function familyOf(families: Map<string, Family>, sampleName: string, line: string): Family {
  for (const family of families.values()) {
    if (SUFFIXES[family.type].some((suffix) => `${family.name}${suffix}` === sampleName)) return family;
  }
  throw new Error(`sample of an undeclared family (no # TYPE before it): ${line}`);
}

/** Parses a whole scrape; throws on the first line that is not valid exposition text. */
export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition text must end with a newline');
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const help = HELP_LINE.exec(line);
    const type = TYPE_LINE.exec(line);
    const sample = SAMPLE_LINE.exec(line);
    if (help) helps.set(help[1], help[2]);
    else if (type) {
      if (families.has(type[1])) throw new Error(`family declared twice: ${type[1]}`);
      families.set(type[1], { name: type[1], type: type[2] as MetricType, help: helps.get(type[1]) ?? '', samples: [] });
    } else if (sample) {
      const labels: Record<string, string> = {};
      for (const [, key, value] of (sample[2] ?? '').matchAll(LABEL_PAIR)) {
        if (key in labels) throw new Error(`label ${key} repeated in: ${line}`);
        labels[key] = unescape(value);
      }
      familyOf(families, sample[1], line).samples.push({ name: sample[1], labels, value: parseValue(sample[3], line) });
    } else if (!line.startsWith('# ')) {
      throw new Error(`not a HELP, TYPE, comment or sample line: ${JSON.stringify(line)}`);
    }
  }
  for (const family of families.values()) if (family.type === 'histogram') assertHistogram(family);
  return families;
}

/** Buckets are cumulative and end at +Inf, which equals `_count`, per label set. */
function assertHistogram(family: Family): void {
  const series = new Map<string, Sample[]>();
  for (const sample of family.samples.filter((s) => s.name.endsWith('_bucket'))) {
    const { le, ...rest } = sample.labels;
    if (le === undefined) throw new Error(`${family.name}: bucket without le`);
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  for (const [key, buckets] of series) {
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i].value < buckets[i - 1].value) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    const last = buckets[buckets.length - 1];
    const count = family.samples.find((s) => s.name === `${family.name}_count` && JSON.stringify(s.labels) === key);
    if (last.labels.le !== '+Inf' || count?.value !== last.value) throw new Error(`${family.name}${key}: +Inf bucket must equal _count`);
  }
}

/** The value of the one sample of `name` whose labels include `labels`; 0 when there is none yet. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const matches = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} samples`);
  return matches[0]?.value ?? 0;
}
