/*
 * Where the key's passphrase comes from: keys.passphraseFile, or the
 * systemd credential peerd-key-passphrase.  Opened by root (the parent,
 * or keyd's offline commands) and refused unless only root can read it.
 */
#ifndef PEERD_PASSFILE_H
#define PEERD_PASSFILE_H

#include <stddef.h>

#define PASSFILE_CREDENTIAL	"peerd-key-passphrase"
#define PASSFILE_NONE		(-2)

int	 passfile_open(const char *, char *, size_t, char *, size_t);

#endif /* PEERD_PASSFILE_H */
