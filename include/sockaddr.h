/* sockaddr.h - struct netaddr <-> the socket API's struct sockaddr */
#ifndef GT_SOCKADDR_H
#define GT_SOCKADDR_H

#include <sys/socket.h>

#include <stdbool.h>

#include "addr.h"

/* A socket address as a netaddr (v4-mapped made v4); false if neither. */
bool		 sockaddr_to_netaddr(const struct sockaddr *, struct netaddr *);
/*
 * a as a socket address in *ss; returns its length.  mapped: for a
 * dual-stack IPv6 socket, an IPv4 address becomes ::ffff:a.b.c.d.
 */
socklen_t	 sockaddr_from_netaddr(const struct netaddr *, bool mapped,
		    struct sockaddr_storage *ss);

#endif /* GT_SOCKADDR_H */
