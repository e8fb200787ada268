import { RequestValidationError } from '../common/request-validation.error.js';
import { type AuthInput, type AuthPlan, planAuth } from './server-auth.js';
import { ServerEntity } from './server.entity.js';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
const stored = (overrides: Partial<ServerEntity>): ServerEntity =>
  Object.assign(new ServerEntity(), { sshPasswordEnc: null, sshPrivateKeyEnc: null, sshKeyPassphraseEnc: null, sshKeyPath: null, ...overrides });
const passwordServer = stored({ authType: 'PASSWORD', sshPasswordEnc: 'v1:pw' });
const keyServer = stored({ authType: 'KEY_FILE', sshPrivateKeyEnc: 'v1:key', sshKeyPassphraseEnc: 'v1:phrase' });

function fieldsOf(current: ServerEntity | null, input: AuthInput): string[] {
  try {
    planAuth(current, input);
  } catch (error) {
    if (error instanceof RequestValidationError) return error.details.map((d) => d.field);
    throw error;
  }
  return [];
}

describe('planAuth', () => {
  it('creates a PASSWORD server with its password and nothing else', () => {
    expect(planAuth(null, { authType: 'PASSWORD', sshPassword: 'pw' })).toEqual<AuthPlan>({
      authType: 'PASSWORD',
      sshKeyPath: null,
      password: { kind: 'set', value: 'pw' },
      privateKey: { kind: 'clear' },
      passphrase: { kind: 'clear' },
    });
  });

  it('creates a KEY_FILE server from a path or an inline key with its passphrase', () => {
    expect(planAuth(null, { authType: 'KEY_FILE', sshKeyPath: '/k/id' })).toMatchObject({ sshKeyPath: '/k/id', privateKey: { kind: 'clear' }, passphrase: { kind: 'clear' } });
    expect(planAuth(null, { authType: 'KEY_FILE', sshPrivateKey: KEY, sshKeyPassphrase: 'p' })).toMatchObject({
      sshKeyPath: null,
      password: { kind: 'clear' },
      privateKey: { kind: 'set', value: KEY },
      passphrase: { kind: 'set', value: 'p' },
    });
  });

  it('names every missing or misplaced field', () => {
    expect(fieldsOf(null, { authType: 'PASSWORD' })).toEqual(['sshPassword']);
    expect(fieldsOf(null, { authType: 'PASSWORD', sshPassword: 'pw', sshKeyPath: '/k', sshKeyPassphrase: 'p' })).toEqual(['sshKeyPath', 'sshKeyPassphrase']);
    expect(fieldsOf(null, { authType: 'KEY_FILE' })).toEqual(['sshKeyPath']);
    expect(fieldsOf(null, { authType: 'KEY_FILE', sshPassword: 'pw', sshKeyPath: '/k', sshPrivateKey: KEY })).toEqual(['sshPassword', 'sshPrivateKey']);
  });

  it('keeps stored secrets on a PATCH that does not touch them', () => {
    expect(planAuth(passwordServer, {})).toMatchObject({ authType: 'PASSWORD', password: { kind: 'keep' } });
    expect(planAuth(keyServer, {})).toMatchObject({ authType: 'KEY_FILE', privateKey: { kind: 'keep' }, passphrase: { kind: 'keep' } });
  });

  it('on a switch of authType, requires the new secret and clears the old ones', () => {
    expect(fieldsOf(passwordServer, { authType: 'KEY_FILE' })).toEqual(['sshKeyPath']);
    expect(fieldsOf(keyServer, { authType: 'PASSWORD' })).toEqual(['sshPassword']);
    expect(planAuth(keyServer, { authType: 'PASSWORD', sshPassword: 'pw' })).toMatchObject({
      password: { kind: 'set', value: 'pw' },
      privateKey: { kind: 'clear' },
      passphrase: { kind: 'clear' },
    });
    expect(planAuth(passwordServer, { authType: 'KEY_FILE', sshKeyPath: '/k' })).toMatchObject({ password: { kind: 'clear' }, sshKeyPath: '/k' });
  });

  it('replaces one key source by the other, and clears the passphrase on null', () => {
    expect(planAuth(keyServer, { sshKeyPath: '/k' })).toMatchObject({ sshKeyPath: '/k', privateKey: { kind: 'clear' }, passphrase: { kind: 'keep' } });
    const onPath = stored({ authType: 'KEY_FILE', sshKeyPath: '/k' });
    expect(planAuth(onPath, { sshPrivateKey: KEY })).toMatchObject({ sshKeyPath: null, privateKey: { kind: 'set', value: KEY } });
    expect(planAuth(keyServer, { sshKeyPassphrase: null })).toMatchObject({ passphrase: { kind: 'clear' } });
    expect(fieldsOf(passwordServer, { sshPrivateKey: KEY })).toEqual(['sshPrivateKey']);
  });
});
