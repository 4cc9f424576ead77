#ifndef PEERCTL_SUBSCRIBE_H
#define PEERCTL_SUBSCRIBE_H

struct imsg;

int	 gsmsg_print(struct imsg *, const char *, int);

#endif /* PEERCTL_SUBSCRIBE_H */
