import { preview as cut } from '../format';

/** A request the client got wrong: answered with this status and `{"error": message}`; never a 5xx. */
export class RequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A short, safe rendering of what the client sent, for error messages: strings quoted, so "" and " " show. */
export function preview(value: unknown, max = 60): string {
  return cut(typeof value === 'string' ? JSON.stringify(value) : value, max);
}

/** A deployment the user asked for that cannot be made as asked; the message names the problem and the fix. */
export class DeploymentError extends Error {}
