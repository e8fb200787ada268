// Loads deploy/k8s/ and validates each object against the Kubernetes OpenAPI schemas that the
// kubernetes-models package ships (a recent Kubernetes release), refusing kinds it does not know.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Secret, type ISecret } from 'kubernetes-models/v1/Secret';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';

export const MANIFEST_DIR = join(process.cwd(), 'deploy', 'k8s');

export interface Manifests {
  deployment: IDeployment;
  service: IService;
  secret: ISecret;
  pdb: IPodDisruptionBudget;
}

export interface Loaded {
  file: string;
  object: { apiVersion?: string; kind?: string } & Record<string, unknown>;
}

const MODELS: Record<string, { validate(object: Record<string, unknown>): void }> = {
  'apps/v1 Deployment': { validate: (o) => new Deployment(o as unknown as IDeployment).validate() },
  'v1 Service': { validate: (o) => new Service(o as unknown as IService).validate() },
  'v1 Secret': { validate: (o) => new Secret(o as unknown as ISecret).validate() },
  'policy/v1 PodDisruptionBudget': { validate: (o) => new PodDisruptionBudget(o as unknown as IPodDisruptionBudget).validate() },
};

/** Every YAML document of every file in the directory (templates included). @throws on a YAML error. */
export function loadManifests(dir = MANIFEST_DIR): Loaded[] {
  const loaded: Loaded[] = [];
  for (const file of readdirSync(dir).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object = doc.toJS() as Loaded['object'] | null;
      if (object !== null) loaded.push({ file, object });
    }
  }
  return loaded;
}

/** @throws naming the file and the schema violations, or an apiVersion/kind without a schema here. */
export function validateManifest({ file, object }: Loaded): void {
  const model = MODELS[`${object.apiVersion} ${object.kind}`];
  if (!model) throw new Error(`${file}: no schema for ${object.apiVersion} ${object.kind}; add it to test/deploy/k8s-manifests.ts`);
  try {
    model.validate(object);
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The one object of each kind the deployment consists of. */
export function byKind(loaded: Loaded[]): Manifests {
  const one = <T>(kind: string): T => {
    const found = loaded.filter((l) => l.object.kind === kind);
    if (found.length !== 1) throw new Error(`expected exactly one ${kind} in deploy/k8s, found ${found.length}`);
    return found[0].object as T;
  };
  return { deployment: one('Deployment'), service: one('Service'), secret: one('Secret'), pdb: one('PodDisruptionBudget') };
}
