/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * mpool_testing.h - hooks for libmempool's own tests; not installed.
 */
#ifndef MPOOL_TESTING_H
#define MPOOL_TESTING_H

/**
 * mpool_env_fail_after() - fault injection for create-time allocations.
 * @n: let the next @n allocations and mappings succeed and fail every one
 *	after them; -1 turns injection off.
 */
void mpool_env_fail_after(long n);

#endif /* MPOOL_TESTING_H */
