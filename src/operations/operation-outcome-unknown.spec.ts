import type { INestApplication } from '@nestjs/common';
import { FakeConnector, fakeTarget } from '../../test/fakes/fake-connector.js';
import { FakeOperationStore, FakeSignals } from '../../test/fakes/fake-operation-store.js';
import { createPool } from '../../test/support/pool-module.js';
import type { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import type { OperationSignals } from './operation-signals.js';
import type { OperationStore } from './operation-store.js';
import { runOperation } from './operation-runner.js';

describe('an operation whose command may have run (fake connector)', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('ends failed with SSH_OUTCOME_UNKNOWN, and its command was sent once', async () => {
    const fake = new FakeConnector();
    let pool: SshPoolService;
    ({ app, pool } = await createPool({}, fake));
    const store = new FakeOperationStore();
    const operation = store.add('op');
    fake.loseConnectionOnExec = 1;
    const deps = {
      pool,
      store: store as unknown as OperationStore,
      signals: new FakeSignals() as unknown as OperationSignals,
      config: { timeoutMs: 5000, leaseMs: 30_000, cancelGraceMs: 100 },
    };
    await expect(runOperation(deps, operation, fakeTarget(), 'echo update')).resolves.toBe('failed');
    expect(store.rows.get('op')).toMatchObject({ status: 'failed', errorCode: 'SSH_OUTCOME_UNKNOWN', exitCode: null });
    expect(fake.ran).toEqual(['echo update']);
  });
});
