/* rt_balance.h - the balance monitor (RT_REC_BALANCE, see "BALANCE MONITOR"
 * in rt_abi.h): per recorded neuron, online window statistics of its
 * excitatory and inhibitory input currents, written as structured .npy rows,
 * and the same statistics of the currents averaged over those neurons.
 * rt_ei.c owns one RtBalSet per simulation and calls these at the points of
 * the step "ABI v3" in rt_abi.h names. Not part of the ABI. */
#ifndef EIC_RT_BALANCE_H
#define EIC_RT_BALANCE_H

#include <stdint.h>
#include <stdio.h>

#include "rt_abi.h"

typedef struct RtSim RtSim;
typedef struct RtBalSet RtBalSet;   /* the balance recordings of one simulation */

/* Checks balance recording k of `m` (population, state indices, window). */
RtErrorCode rt_bal_validate(const RtModelDesc *m, int k, RtError *err);

/* Opens the files of every balance recording of s (none without an output
 * directory). *out receives the set (free with rt_bal_free, also on error). */
RtErrorCode rt_bal_open(RtSim *s, RtBalSet **out, RtError *err);

/* Thread phase of step `step`, thread part t, neurons [lo, hi) of
 * population p, before its update (args: part t's RtPopArgs of p, step and
 * t set): the monitors of p whose samples come from the probe kernel (v5)
 * evaluate it over their neurons in [lo, hi) and accumulate; a due row gets
 * the part's neurons. */
void rt_bal_before_update(RtBalSet *b, RtSim *s, int p, int t, RtPopArgs *args, RtStep step,
                          int64_t lo, int64_t hi);

/* The same after the update, for the monitors that read states (v3/v4). */
void rt_bal_after_update(RtBalSet *b, RtSim *s, int p, RtStep step, int64_t lo, int64_t hi);

/* 1 if a row is due after `step` (the serial phase reads what threads wrote). */
int rt_bal_holds(const RtBalSet *b, RtStep step);

/* Serial phase after `step`: the population sample of every monitor (the
 * mean of the step's samples over its neurons, summed in a fixed order),
 * appends the rows due (NAME.npy and NAME_pop.npy), flushes every `flush`
 * steps. Called after every step. */
RtErrorCode rt_bal_write(RtBalSet *b, RtStep step, RtStep flush, RtError *err);

/* Writes the manifest object of recording k (an RT_REC_BALANCE) to f; b may
 * be NULL (no output directory). */
void rt_bal_manifest(FILE *f, const RtSim *s, const RtBalSet *b, int k);

/* Closes the files (first error into err). */
RtErrorCode rt_bal_close(RtBalSet *b, RtError *err);

void rt_bal_free(RtBalSet *b);

#endif
