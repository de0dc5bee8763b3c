/** A `curl` line that scores one all-zeros row on a deployment: what "Copy curl" and `deployments show` give. */
export function curlExample(url: string, model: string, input: { name: string; datatype: string; shape: number[] }, tokenRequired: boolean): string {
  const shape = input.shape.map((d) => (d < 0 ? 1 : d));
  const n = shape.reduce((a, b) => a * b, 1);
  const zero = input.datatype === 'BYTES' ? '""' : input.datatype === 'BOOL' ? 'false' : '0';
  const body = `{"inputs":[{"name":"${input.name}","shape":${JSON.stringify(shape)},"datatype":"${input.datatype}","data":[${Array(n).fill(zero).join(',')}]}]}`;
  const auth = tokenRequired ? ` -H "Authorization: Bearer $MLOPS_SERVING_TOKEN"` : '';
  return `curl -s ${url}/v2/models/${model}/infer -H 'Content-Type: application/json'${auth} -d '${body}'`;
}
