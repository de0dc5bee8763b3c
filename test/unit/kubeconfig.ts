import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A kubeconfig in a temp folder whose one context, "nowhere", points at a port where no API server listens. */
export function noClusterKubeconfig(): string {
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kube-')), 'config');
  fs.writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: nowhere',
    'clusters:', '- name: nowhere', '  cluster:', '    server: https://127.0.0.1:1',
    'contexts:', '- name: nowhere', '  context:', '    cluster: nowhere', '    user: me',
    'users:', '- name: me', '  user:', '    token: x', '',
  ].join('\n'));
  return kubeconfig;
}
