/* err.h - error codes shared by every module */
#ifndef GT_ERR_H
#define GT_ERR_H

enum gt_err {
	GT_OK = 0,
	GT_EAGAIN,	/* need more input */
	GT_EINVAL,	/* malformed input or bad argument */
	GT_EPROTO,	/* peer or tracker broke the protocol */
	GT_ERANGE,	/* a number or index out of range */
	GT_ETOOBIG,	/* input over a size cap */
	GT_EDEPTH,	/* nesting over the depth cap */
	GT_EIO,		/* a system call failed; errno was logged */
	GT_ENOENT,	/* no such file or key */
	GT_EEXIST,	/* already exists */
	GT_EUNSUP,	/* valid but not supported */
	GT_EHASH,	/* hash mismatch */
	GT_ECHANGED,	/* a file changed while it was read */
	GT_ECANCELED,	/* stopped on request */
	GT_ENOSPC,	/* no space left on the device (or quota) */
	GT_EACCES,	/* permission denied (or a read-only file system) */
};

/* Size of the error-text buffers that fallible functions fill. */
#define GT_ERRLEN	256

const char	*gt_strerror(enum gt_err);
/*
 * Writes a message into err (GT_ERRLEN bytes; nothing when NULL) and
 * returns e, so that `return gt_fail(err, GT_EINVAL, "...")` reads well.
 */
enum gt_err	 gt_fail(char *err, enum gt_err e, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
		    __attribute__((format(printf, 3, 4)))
#endif
		    ;

#endif /* GT_ERR_H */
