export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const ms = (value: number): string => `${value.toFixed(2)} ms`;
export const ratio = (value: number): string => `${value.toFixed(2)}×`;

export async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

export type Variant = { name: string; run: () => Promise<number>; runs: number };

/**
 * Interleaves the variants in blocks of back-to-back runs (as a monitoring loop issues them), so that
 * machine noise hits them alike; returns medians.
 */
export async function sideBySide(variants: Variant[], block = 10): Promise<Map<string, number>> {
  const samples = new Map(variants.map((v) => [v.name, [] as number[]]));
  const rounds = Math.max(...variants.map((v) => v.runs));
  for (let round = 0; round < rounds; round += block) {
    for (const v of variants) {
      for (let i = round; i < Math.min(round + block, v.runs); i++) samples.get(v.name)!.push(await v.run());
    }
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

