/** Whether an error is a full disk (or a full quota): the user can fix it by freeing space, then retry. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
