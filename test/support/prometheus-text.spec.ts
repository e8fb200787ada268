import { parsePrometheusText, sampleValue } from './prometheus-text.js';

const VALID = [
  '# HELP demo_requests_total Requests, with a "quote" in help.',
  '# TYPE demo_requests_total counter',
  'demo_requests_total{route="/a/:id",code="200"} 3',
  'demo_requests_total{route="esc\\"aped\\\\",code="500"} 1',
  '# TYPE demo_seconds histogram',
  'demo_seconds_bucket{le="0.1"} 1',
  'demo_seconds_bucket{le="+Inf"} 2',
  'demo_seconds_sum 0.35',
  'demo_seconds_count 2',
  '# TYPE demo_up gauge',
  'demo_up 1e0',
  '',
].join('\n');

describe('parsePrometheusText (test support)', () => {
  it('reads families, labels (unescaped) and values', () => {
    const families = parsePrometheusText(VALID);
    expect([...families.keys()]).toEqual(['demo_requests_total', 'demo_seconds', 'demo_up']);
    expect(sampleValue(families, 'demo_requests_total', { route: 'esc"aped\\' })).toBe(1);
    expect(sampleValue(families, 'demo_seconds_count')).toBe(2);
    expect(sampleValue(families, 'demo_up')).toBe(1);
  });

  it.each([
    ['a sample of an undeclared family', VALID.replace('demo_up 1e0', 'other_up 1')],
    ['a bad value', VALID.replace('demo_up 1e0', 'demo_up one')],
    ['an unquoted label value', VALID.replace('code="200"', 'code=200')],
    ['a bad metric name', VALID.replace('demo_up 1e0', 'demo-up 1')],
    ['a histogram whose +Inf bucket differs from _count', VALID.replace('demo_seconds_count 2', 'demo_seconds_count 3')],
    ['non-cumulative buckets', VALID.replace('demo_seconds_bucket{le="0.1"} 1', 'demo_seconds_bucket{le="0.1"} 5')],
    ['a suffix the type does not allow', VALID.replace('demo_up 1e0', 'demo_up_count 1')],
    ['no final newline', VALID.trimEnd()],
    ['a family declared twice', `${VALID}# TYPE demo_up gauge\n`],
  ])('rejects %s', (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
