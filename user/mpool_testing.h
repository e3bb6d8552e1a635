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

/**
 * mpool_env_outstanding() - allocations and mappings not given back.
 *
 * Return: how many the library holds now; a create that fails must leave it
 * as it found it.
 */
long mpool_env_outstanding(void);

struct mempool;

/**
 * mpool_testing_state_word() - where a pool block's state word lives.
 * @p: the pool.
 * @block: one of its blocks.
 *
 * For tests that stop a thread between two instructions of a free (they
 * write-protect the page of this word).
 * Return: the word's address, or NULL when @block is not a block of @p.
 */
void *mpool_testing_state_word(struct mempool *p, const void *block);

/**
 * mpool_testing_outbox_slot() - where the calling thread's next remote
 *	free of @p goes in its open outbox.
 * @p: the pool.
 *
 * For tests that stop a freer inside its outbox bracket (they
 * write-protect the page of this slot).
 * Return: the slot's address; NULL when the thread has no open outbox.
 */
void *mpool_testing_outbox_slot(struct mempool *p);

#endif /* MPOOL_TESTING_H */
