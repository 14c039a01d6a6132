/**
 * deploy/kubernetes/opportunity-api.yaml against the server it deploys (no cluster runs here): the variables it
 * sets exist, the probes ask the routes meant for them, the port is the image's, the kubelet waits longer than
 * the server's own graceful stop, and the migration Job runs the command the image ships.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SETTINGS } from '../../src/config/settings';
import { PROJECT_ROOT } from '../helpers/cli';

interface Container {
  command?: string[];
  env?: Array<{ name: string; value?: string }>;
  ports?: Array<{ containerPort: number }>;
  readinessProbe?: { httpGet: { path: string } };
  livenessProbe?: { httpGet: { path: string } };
}
interface Manifest {
  kind: string;
  spec: { template: { spec: { containers: Container[]; terminationGracePeriodSeconds?: number } } };
}

const manifests = parseAllDocuments(readFileSync(path.join(PROJECT_ROOT, 'deploy', 'kubernetes', 'opportunity-api.yaml'), 'utf8')).map(
  (document) => document.toJS() as Manifest,
);
const byKind = (kind: string) => manifests.find((manifest) => manifest.kind === kind)!;
const deployment = byKind('Deployment');
const [api] = deployment.spec.template.spec.containers;
const job = byKind('Job').spec.template.spec.containers[0]!;
const env = (container: Container) => new Map((container.env ?? []).map((variable) => [variable.name, variable.value]));
const dockerfile = readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');

it('holds a migration Job, a Deployment, a Service and a PodDisruptionBudget', () => {
  expect(manifests.map((manifest) => manifest.kind).sort()).toEqual(['Deployment', 'Job', 'PodDisruptionBudget', 'Service']);
});

it('sets only variables the server knows', () => {
  for (const container of [api!, job]) {
    for (const name of env(container).keys()) expect(Object.keys(SETTINGS)).toContain(name);
  }
});

it('probes readiness on /ready and liveness on /health, on the port the image exposes', () => {
  expect(api!.readinessProbe?.httpGet.path).toBe('/ready');
  expect(api!.livenessProbe?.httpGet.path).toBe('/health');
  const exposed = Number(/^EXPOSE (\d+)$/m.exec(dockerfile)?.[1]);
  expect(api!.ports?.[0]?.containerPort).toBe(exposed);
  expect(Number(env(api!).get('PORT'))).toBe(exposed);
});

it('gives the server longer than SHUTDOWN_TIMEOUT_MS to stop, and drains within it', () => {
  const timeoutMs = Number(env(api!).get('SHUTDOWN_TIMEOUT_MS') ?? SETTINGS.SHUTDOWN_TIMEOUT_MS.default);
  const drainMs = Number(env(api!).get('SHUTDOWN_DRAIN_MS'));
  expect(deployment.spec.template.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(timeoutMs);
  expect(drainMs).toBeLessThan(timeoutMs);
});

it('migrates with the command the image ships, and the replicas do not', () => {
  expect(job.command).toEqual(['node', 'dist/scripts/migrate.js', 'deploy']);
  expect(existsSync(path.join(PROJECT_ROOT, 'scripts', 'migrate.ts'))).toBe(true);
  expect(api!.command).toBeUndefined(); // the image's CMD: the server alone
  expect(dockerfile).toMatch(/^CMD \["node", "dist\/src\/main\.js"\]$/m);
});
