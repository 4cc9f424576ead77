/*
 * The configuration: one YAML (or JSON) file, keys in the camelCase of the
 * relay operator guide.  Every key has a default; unknown keys are errors.
 */
#ifndef PEERD_CONFIG_H
#define PEERD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "multiaddr.h"
#include "peerid.h"

#define PEERD_CONF_FILE		"/etc/peerd.conf"
#define PEERD_SOCKET		"/run/peerd.sock"	/* controlSocket */
#define CONF_ERRLEN		512

enum peerd_mode {
	MODE_RELAY,
	MODE_PEER
};

struct strlist {
	char		**v;
	size_t		  n;
};

/*
 * The lists of multiaddrs and peer IDs are parsed when the file is read:
 * ma[i] or id[i] is text.v[i] parsed, and the text is kept as written
 * for peerd -nv and config_emit.
 */
struct maddrlist {
	struct strlist	  text;
	struct multiaddr *ma;
};

struct peeridlist {
	struct strlist	  text;
	struct peerid	 *id;
};

struct relay_conf {
	int		 enabled;
	int		 hop_enabled;
	int		 hop_active;
	int		 advertise_enabled;
	int64_t		 advertise_ttl;		/* ms */
	int64_t		 reservations_max;
	int64_t		 reservations_ttl;	/* ms */
	int64_t		 reservations_per_ip;
	int64_t		 limit_duration;	/* ms, 0: none */
	int64_t		 limit_data;		/* bytes, 0: none */
	int64_t		 conns_per_minute;	/* 0: no limit */
	int64_t		 rsvp_per_hour;		/* 0: no limit */
	int64_t		 max_pending_vouchers;	/* waiting for keyd */
	struct peeridlist allowlist;
	struct peeridlist blocklist;
};

struct peerd_conf {
	int		 mode;			/* enum peerd_mode */
	struct maddrlist listen;
	struct maddrlist announce;
	char		*state_dir;
	char		*key_dir;
	char		*empty_dir;
	char		*control_socket;
	char		*control_socket_ro;	/* "" when not wanted */
	int64_t		 ctl_max_clients;	/* each socket's pool */
	int64_t		 ctl_ro_max_clients;
	int64_t		 ctl_ro_max_per_uid;	/* read-only, not root */
	int64_t		 ctl_ro_idle;		/* ms */
	char		*admin_listen;
	int		 admin_allow_remote;	/* a non-loopback admin.listen */
	int64_t		 admin_max_clients;	/* open admin connections */
	int64_t		 admin_max_request;	/* bytes of headers, of body */
	int64_t		 admin_timeout;		/* ms to read or write */
	char		*dapi_listen;		/* daemonApi.listen, "": off */
	int64_t		 dapi_max_clients;
	int64_t		 dapi_max_streams;
	int64_t		 dapi_rate;		/* requests a second */
	char		*metrics_ns;		/* metrics.namespace */
	int		 log_format;		/* LOG_FORMAT_* */
	int64_t		 log_rate_limit;	/* lines of a kind per window */
	int		 log_facility;		/* LOG_DAEMON ... */
	char		*user;
	char		*key_user;
	char		*key_passfile;		/* "": none configured */
	struct relay_conf relay;
	int64_t		 max_connections;
	int64_t		 min_connections;
	int64_t		 max_outgoing;
	int64_t		 max_pending;		/* upgrading inbound */
	int64_t		 upgrade_timeout;	/* ms */
	int64_t		 max_per_ip;
	int64_t		 max_streams;		/* per connection */
	int64_t		 stream_buffer;		/* bytes */
	int64_t		 conn_buffer;		/* bytes */
	int64_t		 total_buffer;		/* bytes */
	int64_t		 stalled_timeout;	/* ms */
	int64_t		 max_pending_per_ip;	/* upgrading, one source */
	int64_t		 ipv4_prefix;		/* source grouping, bits */
	int64_t		 ipv6_prefix;
	struct peeridlist protected_peers;
	int64_t		 dial_backoff_min;	/* ms */
	int64_t		 dial_backoff_max;	/* ms */
	int		 dial_private;		/* DIALPRIV_* of addrscope.h */
	int		 gossip_enabled;
	struct strlist	 gossip_topics;
	int64_t		 gs_D, gs_Dlo, gs_Dhi, gs_Dlazy, gs_Dout;
	int64_t		 gs_heartbeat, gs_fanout_ttl, gs_seen_ttl;	/* ms */
	int64_t		 gs_prune_backoff;				/* ms */
	int64_t		 gs_mcache_len, gs_mcache_gossip;
	int64_t		 gs_max_topics, gs_max_peer_topics;
	int64_t		 gs_max_seen, gs_max_mcache;
	int64_t		 gs_max_ihave, gs_max_iwant;
	int64_t		 gs_max_queue, gs_idontwant_min, gs_max_rpc;	/* bytes */
	int		 gs_hash_ids;
	int64_t		 gs_gossip_thr, gs_publish_thr, gs_graylist_thr;
	int64_t		 gs_coloc_thr;
	int64_t		 gs_max_watchers, gs_max_topic_watchers;
	int64_t		 gs_md_weight, gs_md_thr, gs_md_window;	/* P3, P3b */
	int64_t		 gs_md_activation, gs_mf_weight;
	int64_t		 gs_fd_weight, gs_fd_cap;		/* P2 */
	struct maddrlist bootstrap_peers;
	struct maddrlist relays;
	int64_t		 store_map_size;	/* bytes */
	int64_t		 store_max_peers;
	int64_t		 store_max_acct;
	int64_t		 store_max_acct_size;	/* bytes */
	int64_t		 ws_max_message;	/* bytes of a frame, a message */
	struct strlist	 ws_proxies;		/* websocket.trustedProxies */
};

struct peerd_conf *config_new(void);
void	 config_free(struct peerd_conf *);
struct peerd_conf *config_load(const char *, int, char *, size_t);
struct peerd_conf *config_parse(const char *, size_t, const char *,
	    char *, size_t);
char	*config_emit(const struct peerd_conf *, size_t *);
int	 config_equal(const struct peerd_conf *, const struct peerd_conf *);
void	 config_diff_static(const struct peerd_conf *,
	    const struct peerd_conf *, void (*)(const char *));
void	 config_keep_static(struct peerd_conf *, struct peerd_conf *);
const char *config_mode_name(int);
int	 config_hostport(const char *, struct sockaddr_storage *, socklen_t *);
int	 config_admin_local(const char *);
int	 config_dapi_addr(const char *, struct sockaddr_storage *,
	    socklen_t *);
void	 config_part_engine(const struct peerd_conf *, struct reconf_engine *);
void	 config_part_relay(const struct peerd_conf *, struct reconf_relay *);
void	 config_part_store(const struct peerd_conf *, struct reconf_store *);

#endif /* PEERD_CONFIG_H */
