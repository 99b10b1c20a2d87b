/**
 * Why a file operation failed, in the words an admin would use; a code with no words here is given as the
 * system gave it (`EIO`), which is still what one searches for. `words` tells a code's meaning where the
 * call gives it one of its own (ELOOP, for a file opened without following links, is a link).
 */
export function systemReason(error: unknown, words: Readonly<Record<string, string>> = {}): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return error instanceof Error ? error.message : 'failed';
  return words[code] ?? WORDS[code] ?? code;
}

const WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EEXIST: 'the path already exists',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
};
