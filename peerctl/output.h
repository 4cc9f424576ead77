#ifndef PEERCTL_OUTPUT_H
#define PEERCTL_OUTPUT_H

#include "msg.h"

struct output {
	void	(*head)(const char *);
	void	(*status)(const struct ctl_status *);
	void	(*listen_addr)(const char *);
	void	(*proc)(const struct ctl_proc *);
	void	(*conn)(const struct ctl_conn *);
	void	(*ping)(const struct ctl_ping *);
	void	(*rsvp)(const struct ctl_rsvp *);
	void	(*circuit)(const struct ctl_circuit *);
	void	(*peer)(const struct ctl_peer *);
	void	(*ban)(const struct ctl_ban *);
	void	(*acct)(const struct ctl_acct *);
	void	(*store)(const struct ctl_store *);
	void	(*key)(const struct ctl_key *);
	void	(*topic)(const struct ctl_topic *);
	void	(*gspeer)(const struct ctl_gspeer *);
	void	(*result)(const struct ctl_result *);
	void	(*tail)(void);
	void	(*abort)(const char *);	/* ends output peerd cut short */
};

#define PEER_NSOURCES	7

extern const struct output show_output, json_output;
extern const char *const peer_sources[PEER_NSOURCES];

#endif /* PEERCTL_OUTPUT_H */
