/** strerror() for the errnos livepatch and the module loader return. */
const MESSAGES: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  5: 'Input/output error',
  12: 'Cannot allocate memory',
  13: 'Permission denied',
  16: 'Device or resource busy',
  17: 'File exists',
  19: 'No such device',
  20: 'Not a directory',
  21: 'Is a directory',
  22: 'Invalid argument',
  28: 'No space left on device',
  95: 'Operation not supported',
};

export const ENOENT = -2;
export const EIO = -5;
export const ENOMEM = -12;
export const EACCES = -13;
export const EEXIST = -17;
export const EISDIR = -21;
export const EINVAL = -22;

export function strerror(errno: number): string {
  const e = Math.abs(errno);
  return MESSAGES[e] ?? `Unknown error ${e}`;
}

/** kmod's modprobe: an -ENOENT from init_module() is most often a symbol the module could not link. */
export function modprobeStrerror(errno: number): string {
  return Math.abs(errno) === -ENOENT ? 'Unknown symbol in module, or unknown parameter (see dmesg)' : strerror(errno);
}

/** kmod's insmod says the same more briefly. */
export function insmodStrerror(errno: number): string {
  return Math.abs(errno) === -ENOENT ? 'Unknown symbol in module' : strerror(errno);
}
