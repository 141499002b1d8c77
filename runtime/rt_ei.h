/* rt_ei.h - the runtime's E/I mechanisms of ABI v3: globals (modulators and
 * context levels) and their per-step dynamics, projection gains, silencing
 * and lesions, the balance monitor and weight recordings. rt_sim.c calls the
 * hooks below at the points "ABI v3" in rt_abi.h names; rt_rec.c leaves the
 * two recording kinds to this module. SPEC text: /work/notes/spec-ei-rt.md.
 * Not part of the ABI. */
#ifndef EIC_RT_EI_H
#define EIC_RT_EI_H

#include <stdint.h>
#include <stdio.h>

#include "rt_abi.h"

typedef struct RtSim RtSim;
typedef struct RtEi RtEi;

/* Checks the v3 parts of `m` (globals, gain links, v3 events, balance and
 * weight recordings); a descriptor of version < 3 must not use them. */
RtErrorCode rt_ei_validate(const RtModelDesc *m, RtError *err);

/* Creates s->ei after the populations and projections exist and before the
 * events of step 0 are applied: globals with their initial values (and
 * RtPopArgs.globals of every population), gains 1 or linked, the neurons
 * every silence/lesion event chooses. */
RtErrorCode rt_ei_build(RtSim *s, RtError *err);

/* After the plastic projections and the output directory exist: the plastic
 * kernels' globals and gain, the balance and weight recording files. */
RtErrorCode rt_ei_open(RtSim *s, RtError *err);

/* Thread phase of step `step`, thread part t, neurons [lo, hi) of neuron
 * population p, right before its update (args: the part's RtPopArgs, step
 * and t set): balance monitors that read probes (ABI v5) sample. */
void rt_ei_before_update(RtSim *s, int p, int t, RtPopArgs *args, RtStep step, int64_t lo,
                         int64_t hi);

/* Thread phase of step `step`, neurons [lo, hi) of population p, right after
 * its update (or Poisson draw): clears the spike flags of silenced neurons,
 * accumulates the balance monitors that read states (probed ones did in
 * rt_ei_before_update), and when a row is due writes the thread's part of
 * it. */
void rt_ei_after_update(RtSim *s, int p, RtStep step, int64_t lo, int64_t hi);

/* 1 if the serial part of `step` reads what threads write (a balance window
 * ends, a weight sample is due); globals dynamics hold every step through
 * s->always_hold, set by rt_ei_build. */
int rt_ei_holds(const RtSim *s, RtStep step);

/* Serial phase after recording step `step`: adds the step's population
 * averages to the balance monitors (every step), appends their due rows
 * and due weight samples, then advances the globals and linked gains to
 * step+1 (before the events of step+1). */
RtErrorCode rt_ei_serial(RtSim *s, RtStep step, RtError *err);

/* Applies one v3 protocol event (silence, unsilence, lesion, set/add global,
 * set gain); other kinds are ignored. Never fails: everything it needs was
 * prepared by rt_ei_build. */
void rt_ei_apply_event(RtSim *s, const RtEventDesc *e);

/* Writes the manifest object of recording k (a v3 kind) to f. */
void rt_ei_manifest_rec(FILE *f, const RtSim *s, int k);

/* Writes end-of-run weight samples (every = 0) and closes the files. */
RtErrorCode rt_ei_finish(RtSim *s, RtError *err);

void rt_ei_free(RtSim *s);

#endif
