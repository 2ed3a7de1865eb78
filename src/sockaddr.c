/* sockaddr.c - struct netaddr <-> the socket API's struct sockaddr */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <string.h>

#include "sockaddr.h"

bool
sockaddr_to_netaddr(const struct sockaddr *sa, struct netaddr *a)
{
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;

	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		a->family = ADDR_V4;
		memcpy(a->ip, &sin->sin_addr, 4);
		a->port = ntohs(sin->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		a->family = ADDR_V6;
		memcpy(a->ip, &sin6->sin6_addr, 16);
		a->port = ntohs(sin6->sin6_port);
		addr_unmap(a);
		return true;
	}
	return false;
}

socklen_t
sockaddr_from_netaddr(const struct netaddr *a, bool mapped,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == ADDR_V4 && !mapped) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->ip, 4);
		sin->sin_port = htons(a->port);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	if (a->family == ADDR_V4) {
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6->sin6_addr.s6_addr[12], a->ip, 4);
	} else
		memcpy(&sin6->sin6_addr, a->ip, 16);
	sin6->sin6_port = htons(a->port);
	return sizeof(*sin6);
}
