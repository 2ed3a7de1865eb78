/* err.c - messages for enum gt_err */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

static const char *const gt_err_names[] = {
	[GT_OK] = "success",
	[GT_EAGAIN] = "need more input",
	[GT_EINVAL] = "invalid input",
	[GT_EPROTO] = "protocol error",
	[GT_ERANGE] = "value out of range",
	[GT_ETOOBIG] = "too large",
	[GT_EDEPTH] = "nested too deeply",
	[GT_EIO] = "input/output error",
	[GT_ENOENT] = "not found",
	[GT_EEXIST] = "already exists",
	[GT_EUNSUP] = "not supported",
	[GT_EHASH] = "hash mismatch",
	[GT_ECHANGED] = "file changed while being read",
	[GT_ECANCELED] = "canceled",
	[GT_ENOSPC] = "No space left on device",
	[GT_EACCES] = "Permission denied",
};

const char *
gt_strerror(enum gt_err e)
{
	if ((unsigned)e >= sizeof(gt_err_names) / sizeof(gt_err_names[0]) ||
	    gt_err_names[e] == NULL)
		return "unknown error";
	return gt_err_names[e];
}

enum gt_err
gt_fail(char *err, enum gt_err e, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL) {
		va_start(ap, fmt);
		vsnprintf(err, GT_ERRLEN, fmt, ap);
		va_end(ap);
	}
	return e;
}
