// `npm run bench`: the evidence for issue 9, rerunnable. Starts its own sshd hosts and the built
// service (dist/main.js), runs the five sections, prints the report and writes docs/performance.md and
// docs/performance-latency.svg. BENCH_QUICK=1 for a smoke run; BENCH_ONLY=latency,load,… for some sections.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { latencyChart } from './suite/chart.js';
import { f2, QUICK } from './suite/common.js';
import { faultSection } from './suite/faults.js';
import { latencySection, RTT_MS, type LatencyRow } from './suite/latency.js';
import { loadSection } from './suite/load.js';
import { memorySection } from './suite/memory.js';
import { scenarioSection } from './suite/scenarios.js';

const only = process.env.BENCH_ONLY?.split(',');
const wanted = (name: string) => !only || only.includes(name);

function headline(rows: LatencyRow[]): string[] {
  const row = (variant: string) => rows.find((r) => r.variant === variant)!;
  const [spares, noSpares, off, cm] = ['pool on, spares on', 'pool on, spares off', 'pool off', 'OpenSSH ControlMaster'].map(row);
  return [
    `- Pool off ÷ pool on (spares on): **${f2(off.loopback / spares.loopback)}×** on loopback, **${f2(off.wan / spares.wan)}×** at ${RTT_MS} ms RTT.`,
    `- Pool on (spares on) ÷ OpenSSH ControlMaster: **${f2(spares.loopback / cm.loopback)}×** on loopback, **${f2(spares.wan / cm.wan)}×** at ${RTT_MS} ms RTT.`,
    `- Round trips per command at ${RTT_MS} ms RTT: spares on ${f2(spares.wan / RTT_MS)}, spares off ${f2(noSpares.wan / RTT_MS)}, ControlMaster ${f2(cm.wan / RTT_MS)}, pool off ${f2(off.wan / RTT_MS)}.`,
  ];
}

async function main(): Promise<void> {
  const sections: string[] = [];
  const findings: string[] = [];
  const openssh = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim().split(',')[0] || 'OpenSSH';
  const started = Date.now();
  if (wanted('latency')) {
    const latency = await latencySection();
    writeFileSync('docs/performance-latency.svg', await latencyChart(latency.rows, RTT_MS));
    sections.push('## 1. Per-command latency', '', ...headline(latency.rows), '', latency.markdown, '', '![exec latency](performance-latency.svg)');
    const [spares, cm] = [latency.rows[0], latency.rows[3]];
    if (spares.wan > cm.wan) findings.push(`pooled exec (${f2(spares.wan)} ms) slower than ControlMaster (${f2(cm.wan)} ms) at ${RTT_MS} ms RTT`);
  }
  if (wanted('scenarios')) sections.push('## 2. The seed\'s scenarios, counted at sshd', '', (await scenarioSection()).markdown);
  if (wanted('load')) {
    const load = await loadSection();
    sections.push('## 3. Load', '', load.markdown);
    const failed = Object.values(load.burst.failures).reduce((x, y) => x + y, 0);
    if (failed) findings.push(`${failed} of 500 concurrent execs failed: ${JSON.stringify(load.burst.failures)}`);
    if (load.rows.some((r) => r.errors)) findings.push('autocannon rows with errors: see section 3');
  }
  if (wanted('memory')) sections.push('## 4. Memory per pooled connection', '', (await memorySection()).markdown);
  if (wanted('faults')) {
    const faults = await faultSection();
    sections.push('## 5. Faults under load', '', faults.markdown);
    if (faults.leaked) findings.push(`${faults.leaked} connections left at sshd after the fault run`);
    if (faults.unexpected) findings.push(`${faults.unexpected} failed requests on servers outside a fault`);
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const report = [
    '# Performance',
    '',
    `Written by \`npm run bench\`${QUICK ? ' (BENCH_QUICK=1: few samples)' : ''} on ${new Date().toISOString()}: node ${process.version}, ${openssh}, ${cpus().length} CPUs, ${minutes} min.`,
    'Every figure goes through the HTTP API of the built service (`node dist/main.js`, SQLite) against real `sshd` processes on loopback;',
    `the ${RTT_MS} ms RTT link is a TCP proxy in the bench process that delays every chunk ${RTT_MS / 2} ms each way. Rerun it with \`npm run bench\` (see bench/README.md).`,
    '',
    findings.length ? `**Findings:** ${findings.join('; ')}.` : 'No failed request outside an injected fault, no leaked connection.',
    '',
    ...sections,
    '',
  ].join('\n');
  if (!only) writeFileSync('docs/performance.md', report);
  console.log(report);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
