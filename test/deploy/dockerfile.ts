// A small Dockerfile and .dockerignore reader for the image check (test/deploy/image.e2e-spec.ts).
// It knows only the instructions the project's Dockerfile uses and refuses any other, so a change
// to the Dockerfile can never be silently skipped by the replay.
import { readFileSync } from 'node:fs';

export type Instruction =
  | { op: 'WORKDIR'; path: string }
  | { op: 'COPY'; from?: string; sources: string[]; dest: string }
  | { op: 'RUN'; command: string }
  | { op: 'ENV'; vars: Record<string, string> }
  | { op: 'USER'; user: string }
  | { op: 'VOLUME'; paths: string[] }
  | { op: 'EXPOSE'; ports: number[] }
  | { op: 'CMD'; argv: string[] }
  | { op: 'IGNORED'; keyword: string; text: string }; // STOPSIGNAL, HEALTHCHECK, LABEL: no effect on files or start

export interface Stage {
  image: string; // FROM's image, e.g. node:20-bookworm-slim
  name?: string; // AS <name>
  instructions: Instruction[];
}

/** Joins continuation lines and drops comments (including the `# syntax=` directive). */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    lines.push(pending + line);
    pending = '';
  }
  if (pending !== '') lines.push(pending.trim());
  return lines;
}

/** Exec form (`["a","b"]`) as-is; shell form as `sh -c`, as Docker does. */
function argvOf(rest: string): string[] {
  return rest.startsWith('[') ? (JSON.parse(rest) as string[]) : ['/bin/sh', '-c', rest];
}

function parseEnv(rest: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const match of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) {
    vars[match[1]] = match[3] ?? match[2];
  }
  return vars;
}

function parseCopy(rest: string): Instruction {
  const words = rest.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    if (!flag.startsWith('--from=')) throw new Error(`the image check cannot replay COPY ${flag}`);
    from = flag.slice('--from='.length);
  }
  const dest = words.pop()!;
  return { op: 'COPY', from, sources: words, dest };
}

function parseInstruction(keyword: string, rest: string): Instruction {
  switch (keyword) {
    case 'WORKDIR':
      return { op: 'WORKDIR', path: rest };
    case 'COPY':
      return parseCopy(rest);
    case 'RUN':
      if (rest.startsWith('[') || rest.startsWith('--')) throw new Error(`the image check replays only shell-form RUN: ${rest}`);
      return { op: 'RUN', command: rest };
    case 'ENV':
      return { op: 'ENV', vars: parseEnv(rest) };
    case 'USER':
      return { op: 'USER', user: rest };
    case 'VOLUME':
      return { op: 'VOLUME', paths: rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/) };
    case 'EXPOSE':
      return { op: 'EXPOSE', ports: rest.split(/\s+/).map((p) => Number(p.replace(/\/tcp$/, ''))) };
    case 'CMD':
      return { op: 'CMD', argv: argvOf(rest) };
    case 'STOPSIGNAL':
    case 'HEALTHCHECK':
    case 'LABEL':
      return { op: 'IGNORED', keyword, text: rest };
    default:
      throw new Error(`the image check cannot replay Dockerfile instruction ${keyword}: teach test/deploy/dockerfile.ts first`);
  }
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const [, word, rest] = /^(\S+)\s*(.*)$/.exec(line)!;
    const keyword = word.toUpperCase();
    if (keyword === 'FROM') {
      const [image, as, name] = rest.split(/\s+/);
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
      continue;
    }
    if (stages.length === 0) throw new Error(`Dockerfile: ${keyword} before FROM`);
    stages.at(-1)!.instructions.push(parseInstruction(keyword, rest.trim()));
  }
  return stages;
}

export function readDockerfile(path: string): Stage[] {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

/** One .dockerignore pattern as Docker reads it: anchored at the context root, `**` spans directories. */
function patternRegex(pattern: string): RegExp {
  const clean = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
  let source = '';
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i];
    if (c === '*' && clean[i + 1] === '*') {
      source += '.*';
      i++;
      if (clean[i + 1] === '/') i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern that names a directory excludes everything below it too.
  return new RegExp(`^${source}(/.*)?$`);
}

/** `(relativePath) => excluded`, honouring `!` exceptions in file order (the last match wins). */
export function dockerIgnore(text: string): (relativePath: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => (l.startsWith('!') ? { keep: true, re: patternRegex(l.slice(1)) } : { keep: false, re: patternRegex(l) }));
  return (relativePath) => {
    let excluded = false;
    for (const rule of rules) if (rule.re.test(relativePath)) excluded = !rule.keep;
    return excluded;
  };
}
