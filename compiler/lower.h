/* lower.h - from a checked Program to MIR and the runtime's model descriptor.
 *
 * Pipeline position: after sema (the Program is error-free), before ode.c
 * and code generation. lower_program() flattens the simulated network: one
 * MirPop per population of neurons (the neuron type together with every
 * receptor instance its incoming connections and inputs use, parameters
 * folded to SI constants, per-population overrides applied), and an
 * RtModelDesc with the populations' state layouts and initial values,
 * projections, inputs, recordings and protocol events. The update kernels of
 * RtPopDesc are filled in by the driver once code generation is done. Each
 * plastic projection (synapse model and/or plasticity rule) also gets a
 * MirSyn and an RtPlasticDesc, whose kernels cg_syn_bind() fills in.
 * Populations without a kernel have no MirPop: Poisson populations
 * (RT_POP_POISSON) and the spike-time sources of `input ... = spikes`
 * (RT_POP_SPIKE_TIMES, appended after the declared populations), so
 * desc.npops >= mir.npops. The lowering is split over lower*.c (see
 * lower_int.h).
 */
#ifndef EIC_LOWER_H
#define EIC_LOWER_H

#include "mir.h"
#include "mir_syn.h"
#include "rt_abi.h"
#include "sema.h"

typedef struct Lowered {
    const char *network;      /* name of the simulated network */
    MirModel mir;             /* mir.pops[k] belongs to desc.pops[mir_pop[k]] */
    int *mir_pop;
    RtModelDesc desc;         /* update kernels still NULL */
    RtPopDesc *pops;          /* desc.pops, writable */
    bool use_float;           /* simulate ... precision float */
    MirSyn *syns;  int nsyns; /* plastic projections: syns[k] belongs to desc.projs[syns[k].proj] */
    RtPlasticDesc *plastic;   /* plastic[k] is desc.projs[syns[k].proj].plastic; its kernels
                                 are filled in after code generation (cg_syn_bind) */
    MirPop *globals_mir;      /* the modulator states integrated by eic_globals_step
                                 (cg_globals.c, desc.globals_update): one "neuron" whose
                                 states are globals; NULL when every global is a level
                                 or an exact decay */
    int *global_of;           /* [globals_mir->nstates]: the global each state is */
} Lowered;

/* Lowers the network named by `simulate`. Reports constructs the simulator
 * does not support yet as [unsupported] errors and returns NULL then (also
 * when the program has no simulate). Everything lives in the session arena. */
Lowered *lower_program(Program *p);

/* Runs the ODE planner on every population and plans the event-driven
 * decay of every plastic projection's synapse states (reports to the session's
 * diagnostics). Returns false on errors. */
bool lower_plan_odes(Program *p, Lowered *l);

/* Runs the ODE planner on every neuron type on its own, reporting methods
 * that cannot integrate the type's equations. Returns false on errors. */
bool lower_check_types(Program *p);

#endif
