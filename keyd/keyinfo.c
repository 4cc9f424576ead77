/*
 * peerctl key show: what keyd tells of its identity key.  Nothing
 * secret: the peer ID, the public key, its type and fingerprint, the
 * key file, when it was written and whether it is encrypted at rest.
 * Calls common/ only.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "child.h"
#include "keyd.h"
#include "peerid.h"

/* The key file is encrypted at rest: set by whoever loads it. */
int	 key_encrypted;

void
keyinfo_show(enum proc_id from, uint32_t id, const struct key_public *pub)
{
	struct ctl_key	 k;
	struct stat	 sb;
	uint8_t		 pb[ED25519_PUBKEY_PB_LEN];
	uint8_t		 h[crypto_hash_sha256_BYTES];
	size_t		 len, n;

	memset(&k, 0, sizeof(k));
	strlcpy(k.peerid, pub->peerid, sizeof(k.peerid));
	strlcpy(k.type, "Ed25519", sizeof(k.type));
	len = pb_ed25519_pubkey(pub->pubkey, pb, sizeof(pb));
	sodium_bin2base64(k.pubkey, sizeof(k.pubkey), pb, len,
	    sodium_base64_VARIANT_ORIGINAL);
	/* as ssh-keygen -l prints it: SHA256, base64 without padding */
	crypto_hash_sha256(h, pb, len);
	n = strlcpy(k.fingerprint, "SHA256:", sizeof(k.fingerprint));
	sodium_bin2base64(k.fingerprint + n, sizeof(k.fingerprint) - n, h,
	    sizeof(h), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	snprintf(k.file, sizeof(k.file), "%s/%s", child->opts.root,
	    KEYFILE_NAME);
	if (stat(KEYFILE_NAME, &sb) == 0)
		k.created = sb.st_mtime;
	k.encrypted = key_encrypted;
	child_compose(from, IMSG_CTL_KEY, id, -1, &k, sizeof(k));
	child_compose(from, IMSG_CTL_END, id, -1, NULL, 0);
}
