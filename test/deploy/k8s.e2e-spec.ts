// deploy/k8s/: schema-valid, and consistent with what the app serves and how it shuts down.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { EnvironmentVariables, validateEnvironment } from '../../src/config/environment.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { byKind, loadManifests, validateManifest, type Manifests } from './k8s-manifests.js';

const SECRET_KEYS = ['API_TOKENS', 'CREDENTIALS_KEY', 'DATABASE_URL'];

function container(m: Manifests): IContainer {
  const containers = m.deployment.spec!.template.spec!.containers;
  expect(containers).toHaveLength(1);
  return containers[0];
}

/** The manifest's literal env values (secret references left out). */
function literalEnv(c: IContainer): Record<string, string> {
  return Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}

/** A probe's or Service's port, named or numbered, as the container port number it reaches. */
function containerPort(c: IContainer, port: number | string | undefined): number | undefined {
  return typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort;
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  const loaded = loadManifests();
  const m = byKind(loaded);
  const c = container(m);
  const env = literalEnv(c);

  it.each(loaded.map((l) => [`${l.file} ${l.object.kind}`, l]))('%s is valid against the Kubernetes schemas', (_, manifest) => {
    expect(() => validateManifest(manifest)).not.toThrow();
  });

  it('the schema check would catch a wrong type and a missing required field', () => {
    const broken = structuredClone(loaded.find((l) => l.object.kind === 'Deployment')!);
    (broken.object.spec as Record<string, unknown>).replicas = 'two';
    expect(() => validateManifest(broken)).toThrow(/replicas must be integer/);
    const nameless = structuredClone(broken);
    (nameless.object.spec as { replicas: unknown }).replicas = 2;
    delete (nameless.object as { spec: { template: { spec: { containers: { name?: string }[] } } } }).spec.template.spec.containers[0].name;
    expect(() => validateManifest(nameless)).toThrow(/must have required property name/);
  });

  it('sets an environment the service accepts, listening on the ports the container declares', () => {
    const parsed = validateEnvironment({ ...env, API_TOKENS: 't', CREDENTIALS_KEY: Buffer.alloc(32).toString('base64'), DATABASE_URL: 'postgres://u:p@db:5432/x' });
    expect(c.ports?.map((p) => [p.name, p.containerPort])).toEqual([
      ['http', parsed.PORT],
      ['tcp-internal', parsed.INTERNAL_TCP_PORT],
      ['health', parsed.HEALTH_PORT],
    ]);
    expect(parsed.INTERNAL_TCP_PORT).not.toBe(0);
    expect(parsed.HEALTH_PORT).not.toBe(0);
  });

  it('names only variables the service reads (it ignores unknown ones, so a typo would pass silently)', () => {
    const known = Object.keys(new EnvironmentVariables());
    expect((c.env ?? []).map((e) => e.name).filter((name) => !known.includes(name))).toEqual([]);
  });

  it('points every Service port at a port the service listens on', () => {
    const targets = m.service.spec!.ports!.map((p) => [p.port, containerPort(c, p.targetPort)]);
    expect(targets).toEqual([
      [3000, Number(env.PORT)],
      [3001, Number(env.INTERNAL_TCP_PORT)],
    ]);
  });

  it('selects the pod template from the Service and the PodDisruptionBudget', () => {
    const labels = m.deployment.spec!.template.metadata!.labels!;
    expect(m.deployment.spec!.selector.matchLabels).toEqual(labels);
    expect(m.service.spec!.selector).toEqual(labels);
    expect(m.pdb.spec!.selector!.matchLabels).toEqual(labels);
    expect(m.pdb.spec!.maxUnavailable ?? m.pdb.spec!.minAvailable).toBeDefined();
  });

  it('gives SIGTERM more time than the preStop pause plus SHUTDOWN_GRACE_MS', () => {
    const graceMs = m.deployment.spec!.template.spec!.terminationGracePeriodSeconds! * 1000;
    const preStopMs = (c.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
    expect(env.SHUTDOWN_GRACE_MS).toMatch(/^\d+$/);
    expect(graceMs).toBeGreaterThan(preStopMs + Number(env.SHUTDOWN_GRACE_MS));
  });

  it('runs unprivileged: non-root uid 1000, read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    const pod = m.deployment.spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources?.limits).toMatchObject({ memory: expect.any(String) });
  });

  it('mounts a writable volume at DATA_DIR, the image VOLUME', () => {
    const mount = c.volumeMounts?.find((v) => v.mountPath === env.DATA_DIR);
    expect(env.DATA_DIR).toBe('/app/data');
    expect(mount).toBeDefined();
    expect(mount!.readOnly ?? false).toBe(false);
    expect(m.deployment.spec!.template.spec!.volumes?.find((v) => v.name === mount!.name)).toBeDefined();
  });

  it('takes API_TOKENS, CREDENTIALS_KEY and DATABASE_URL from the Secret template, which holds placeholders only', () => {
    const refs = (c.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom!.secretKeyRef!.name, e.valueFrom!.secretKeyRef!.key]);
    expect(refs).toEqual(SECRET_KEYS.map((k) => [k, m.secret.metadata!.name, k]));
    expect(Object.keys(m.secret.stringData ?? {}).sort()).toEqual(SECRET_KEYS);
    expect(m.secret.data).toBeUndefined();
    for (const value of Object.values(m.secret.stringData!)) expect(value).toContain('REPLACE_ME');
  });

  describe('probes against the running app', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp({ DATABASE_URL: 'sqlite::memory:' });
    });
    afterAll(async () => {
      await app?.close();
    });

    const probes = (): [string, IProbe][] =>
      (['startupProbe', 'livenessProbe', 'readinessProbe'] as const).map((name) => {
        expect(c[name]).toBeDefined();
        return [name, c[name]!];
      });

    it('every probe asks an unauthenticated path that answers 200, on the health port', async () => {
      for (const [name, probe] of probes()) {
        expect([name, containerPort(c, probe.httpGet?.port)]).toEqual([name, Number(env.HEALTH_PORT)]);
        const response = await app.http.get(probe.httpGet!.path!);
        expect([name, probe.httpGet!.path, response.status]).toEqual([name, probe.httpGet!.path, 200]);
      }
      expect(c.livenessProbe!.httpGet!.path).toBe('/health/live');
      expect(c.readinessProbe!.httpGet!.path).toBe('/health/ready');
    });
  });
});
