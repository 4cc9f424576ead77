/*
 * libevent integration for imsg channels.  Calls imsg.c, log.c and
 * libevent.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "imsgev.h"
#include "log.h"

void
imsgev_init(struct imsgev *iev, int fd, void (*handler)(int, short, void *),
    void *data)
{
	memset(&iev->ev, 0, sizeof(iev->ev));
	imsgbuf_init(&iev->ibuf, fd);
	iev->handler = handler;
	iev->data = data;
	iev->events = 0;
	iev->active = 1;
	imsgev_add(iev);
}

void
imsgev_add(struct imsgev *iev)
{
	short	 events = iev->paused ? 0 : EV_READ;

	if (!iev->active)
		return;
	if (imsgbuf_queued(&iev->ibuf))
		events |= EV_WRITE;
	if (events == iev->events && event_initialized(&iev->ev) &&
	    (events == 0 || event_pending(&iev->ev, EV_READ | EV_WRITE, NULL)))
		return;
	if (event_initialized(&iev->ev))
		event_del(&iev->ev);
	iev->events = events;
	if (events == 0)
		return;
	event_set(&iev->ev, iev->ibuf.fd, events, iev->handler, iev->data);
	event_add(&iev->ev, NULL);
}

/* Stop watching and release everything; closes the descriptor. */
void
imsgev_clear(struct imsgev *iev)
{
	if (event_initialized(&iev->ev))
		event_del(&iev->ev);
	imsgbuf_clear(&iev->ibuf);
	if (iev->ibuf.fd != -1)
		close(iev->ibuf.fd);
	iev->ibuf.fd = -1;
	iev->active = 0;
}

int
imsgev_compose(struct imsgev *iev, uint32_t type, uint32_t id, pid_t pid,
    int fd, const void *data, size_t len)
{
	int	 r;

	if (!iev->active) {
		errno = EPIPE;
		return -1;
	}
	if ((r = imsg_compose(&iev->ibuf, type, id, pid, fd, data,
	    len)) != -1)
		imsgev_add(iev);
	return r;
}

/*
 * Common read/write step of an event handler.  Returns 0 to go on and
 * read messages, -1 when the channel is closed or broken (already
 * logged with the given peer name).
 */
int
imsgev_io(struct imsgev *iev, short event, const char *peer)
{
	ssize_t	 n;

	if (event & EV_READ) {
		if ((n = imsgbuf_read(&iev->ibuf)) == -1 &&
		    errno != EAGAIN && errno != EINTR) {
			log_warn("read from %s", peer);
			return -1;
		}
		if (n == 0) {
			log_debug("%s closed its channel", peer);
			return -1;
		}
	}
	if (event & EV_WRITE) {
		if (imsgbuf_write(&iev->ibuf) == -1) {
			log_warn("write to %s", peer);
			return -1;
		}
	}
	return 0;
}
