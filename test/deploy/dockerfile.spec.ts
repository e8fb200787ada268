// The Dockerfile reader the image check relies on, and the image's fixed properties.
import { join } from 'node:path';
import { dockerIgnore, parseDockerfile, readDockerfile } from './dockerfile.js';

describe('Dockerfile reader', () => {
  it('reads stages, continuation lines, exec and shell forms, ENV pairs and COPY --from', () => {
    const stages = parseDockerfile(
      ['# syntax=docker/dockerfile:1', 'FROM node:20 AS build', 'WORKDIR /app', 'RUN npm ci \\', '  && npm run build', 'FROM node:20-slim',
        'ENV A=1 B="two words"', 'COPY --from=build /app/dist ./dist', 'CMD ["node", "dist/main.js"]', 'STOPSIGNAL SIGTERM'].join('\n'),
    );
    expect(stages).toEqual([
      { image: 'node:20', name: 'build', instructions: [{ op: 'WORKDIR', path: '/app' }, { op: 'RUN', command: 'npm ci && npm run build' }] },
      {
        image: 'node:20-slim',
        name: undefined,
        instructions: [
          { op: 'ENV', vars: { A: '1', B: 'two words' } },
          { op: 'COPY', from: 'build', sources: ['/app/dist'], dest: './dist' },
          { op: 'CMD', argv: ['node', 'dist/main.js'] },
          { op: 'IGNORED', keyword: 'STOPSIGNAL', text: 'SIGTERM' },
        ],
      },
    ]);
  });

  it('refuses an instruction it cannot replay, so the image check never skips one silently', () => {
    expect(() => parseDockerfile('FROM node:20\nADD https://example.com/x /x')).toThrow(/cannot replay Dockerfile instruction ADD/);
    expect(() => parseDockerfile('FROM node:20\nCOPY --chown=node src ./src')).toThrow(/cannot replay COPY --chown/);
    expect(() => parseDockerfile('FROM node:20\nRUN --mount=type=cache,target=/root/.npm npm ci')).toThrow(/only shell-form RUN/);
  });

  it('matches .dockerignore as Docker does: anchored at the context root, directories with their content, `!` exceptions', () => {
    const ignored = dockerIgnore('node_modules\n*.md\n**/*.log\n!keep.log\n# comment\n');
    expect(['node_modules', 'node_modules/x/index.js', 'README.md', 'a.log', 'src/deep/b.log'].filter(ignored)).toHaveLength(5);
    expect(['src/main.ts', 'docs/api.md', 'keep.log', 'node_modules_extra'].filter(ignored)).toEqual([]);
  });
});

describe('the project Dockerfile', () => {
  const stages = readDockerfile(join(process.cwd(), 'Dockerfile'));
  const final = stages.at(-1)!;

  it('builds in one stage and runs from a slim one on the Node major this check runs on', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toMatch(new RegExp(`^node:${process.versions.node.split('.')[0]}-`));
    expect(final.image).toMatch(/-slim$/);
    expect(final.instructions.filter((i) => i.op === 'RUN').map((i) => i.op === 'RUN' && i.command).join('\n')).not.toMatch(/npm (ci|install)/);
  });

  it('prunes devDependencies before the runtime stage copies node_modules', () => {
    const runs = stages[0].instructions.flatMap((i) => (i.op === 'RUN' ? [i.command] : []));
    expect(runs.join('\n')).toMatch(/npm prune --omit=dev/);
    expect(final.instructions).toContainEqual({ op: 'COPY', from: stages[0].name, sources: ['/app/node_modules'], dest: './node_modules' });
  });
});
