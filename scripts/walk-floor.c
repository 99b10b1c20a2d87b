// The audit's I/O floor in C, for `npm run bench`: what listing every folder of a pull and reading every
// file costs in the kernel with nothing in between (no parsing, no checks, no report), on N threads. Each
// thread opens the top folder itself (threads sharing one descriptor would share its read position) and
// walks every Nth entry of it; folders are opened relative to their parent and files read to their end.
// Prints the files read. No program that reads the pull the same way can take less time than this.
#define _GNU_SOURCE
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

struct entry64 { unsigned long long ino; long long off; unsigned short reclen; unsigned char type; char name[]; };
struct share { const char *root; int index, of; long files; };

static void walk(int folder, struct share *share, int top) {
  char entries[32768], bytes[65536];
  long seen = 0, got;
  while ((got = syscall(SYS_getdents64, folder, entries, sizeof entries)) > 0) {
    for (long at = 0; at < got;) {
      struct entry64 *e = (struct entry64 *)(entries + at);
      at += e->reclen;
      if (e->name[0] == '.' && (!e->name[1] || (e->name[1] == '.' && !e->name[2]))) continue;
      if (top && seen++ % share->of != share->index) continue;
      if (e->type == DT_DIR) {
        int fd = openat(folder, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) { walk(fd, share, 0); close(fd); }
      } else if (e->type == DT_REG) {
        int fd = openat(folder, e->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) { while (read(fd, bytes, sizeof bytes) > 0); share->files++; close(fd); }
      }
    }
  }
}

static void *walkShare(void *arg) {
  struct share *share = arg;
  int fd = open(share->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) { walk(fd, share, 1); close(fd); }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: walk-floor FOLDER THREADS\n"); return 2; }
  int threads = atoi(argv[2]);
  if (threads < 1 || threads > 64) threads = 1;
  struct share shares[64];
  pthread_t ids[64];
  for (int i = 0; i < threads; i++) {
    shares[i] = (struct share){ argv[1], i, threads, 0 };
    pthread_create(&ids[i], NULL, walkShare, &shares[i]);
  }
  long files = 0;
  for (int i = 0; i < threads; i++) { pthread_join(ids[i], NULL); files += shares[i].files; }
  printf("%ld\n", files);
  return 0;
}
