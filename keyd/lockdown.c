/*
 * keyd in lockdown (peerctl lockdown, SIGUSR2 to the parent): its keys
 * wiped and unmapped, and from then on every request refused, with an
 * answer where the asker waits for one.  Calls common/ only.
 */
#include <sys/types.h>

#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "child.h"
#include "keyd.h"
#include "log.h"

#define LOCKDOWN_REFUSAL	"keyd is in lockdown: its keys are wiped " \
				"from memory; only a restart of the suite " \
				"leaves it"

/* Guarded pages of sodium_malloc: zeroed, then freed. */
void
lockdown_wipe(void *p, size_t len)
{
	if (p == NULL)
		return;
	sodium_mprotect_readwrite(p);
	sodium_memzero(p, len);
	sodium_free(p);
}

/*
 * A request while in lockdown: a failed DH, an empty signature, an
 * error for peerctl, a failed rotation; no answer for the public key,
 * which is asked only at start.  0 when refused, 1 for a type keyd
 * does not serve, -1 for a message too short to answer.
 */
int
lockdown_refuse(enum proc_id from, struct imsg *imsg)
{
	static struct log_limit	 ll = LOG_LIMIT("requests refused in "
				    "lockdown");
	struct key_dh_result	 dh;
	struct ctl_result	 res;
	struct key_rotated	 kr;
	struct key_ps_sig	 ps;
	uint32_t		 type = imsg_get_type(imsg);
	uint32_t		 id = imsg_get_id(imsg);
	int			 fd;

	switch (type) {
	case IMSG_KEY_DH:
		memset(&dh, 0, sizeof(dh));
		child_compose(from, IMSG_KEY_DH_RESULT, id, -1, &dh,
		    sizeof(dh));
		break;
	case IMSG_KEY_SIGN_RECORD:
		child_compose(from, IMSG_KEY_RECORD, 0, -1, NULL, 0);
		break;
	case IMSG_KEY_SIGN_VOUCHER:
		child_compose(from, IMSG_KEY_VOUCHER, id, -1, NULL, 0);
		break;
	case IMSG_KEY_SIGN_PUBSUB:
		if (imsg_get_len(imsg) < sizeof(ps.req))
			return -1;
		memset(&ps, 0, sizeof(ps));
		memcpy(&ps.req, imsg->data, sizeof(ps.req));
		child_compose(from, IMSG_KEY_PUBSUB_SIG, 0, -1, &ps,
		    sizeof(ps));
		break;
	case IMSG_CTL_SHOW_KEY:
		memset(&res, 0, sizeof(res));
		strlcpy(res.msg, LOCKDOWN_REFUSAL, sizeof(res.msg));
		child_compose(from, IMSG_CTL_RESULT, id, -1, &res,
		    sizeof(res));
		child_compose(from, IMSG_CTL_END, id, -1, NULL, 0);
		break;
	case IMSG_KEY_ROTATE:
		if ((fd = imsg_get_fd(imsg)) != -1)
			close(fd);
		memset(&kr, 0, sizeof(kr));
		strlcpy(kr.msg, LOCKDOWN_REFUSAL, sizeof(kr.msg));
		child_compose(PROC_ENGINE, IMSG_KEY_ROTATED, id, -1, &kr,
		    sizeof(kr));
		break;
	case IMSG_KEY_GET_PUBLIC:
		break;
	default:
		return 1;
	}
	log_limited(&ll, LOG_WARNING, "refused %s from %s: %s",
	    msg_name(type), proc_name(from), LOCKDOWN_REFUSAL);
	return 0;
}
