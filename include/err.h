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
};

const char	*gt_strerror(enum gt_err);

#endif /* GT_ERR_H */
