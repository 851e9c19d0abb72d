/*
 * spank_write_tracer: a Slurm SPANK plugin that registers every task of a job
 * step with a running write-tracer (REST API, POST /pids) before the task runs
 * its program, and unregisters it (DELETE /pids/N) when the task exits.
 *
 * plugstack.conf:
 *   optional /usr/local/lib/slurm/spank_write_tracer.so url=http://127.0.0.1:9092 token_file=/etc/write-tracer/token
 * Arguments: url=http://ADDRESS:PORT (default http://127.0.0.1:9092) or
 * socket=/PATH (a Unix socket, exclusive with url=), token_file=PATH (bearer
 * token, read once per step while still root), required=0|1 (default 0: a
 * failed registration is logged and the task runs untraced; 1: the task's
 * launch fails, which Slurm honours when the plugstack line says "required"),
 * timeout=MS (default 2000, the budget of each request).
 *
 * Why task_post_fork: it runs in slurmstepd, as root, once per task, after the
 * task's process exists (S_TASK_PID) but before slurmstepd lets it exec the
 * user's program. Registering there traces the program from its first
 * instruction, and children it forks are inherited in the kernel. task_init
 * runs in the task itself after privileges are dropped, so the token file
 * (readable by root only) is out of reach there; task_init_privileged would
 * work too, but then each task would make its own connection from inside the
 * user's process tree.
 */
#include <slurm/spank.h>
#include <stdint.h>

#include "tracer_client.h"

SPANK_PLUGIN(write_tracer, 1);

/* Parsed once per slurmstepd (one per job step); the hooks only read it. */
static struct tracer_config config;
static int active;

struct task {
    pid_t pid;
    int id;
    uint32_t job;
    uint32_t step;
};

static int describe_task(spank_t spank, struct task *task)
{
    if (spank_get_item(spank, S_TASK_PID, &task->pid) != ESPANK_SUCCESS) {
        slurm_error("write-tracer: the task's pid is not available");
        return -1;
    }
    /* Only for messages: a missing one is shown as 0. */
    task->id = 0;
    task->job = task->step = 0;
    spank_get_item(spank, S_TASK_ID, &task->id);
    spank_get_item(spank, S_JOB_ID, &task->job);
    spank_get_item(spank, S_JOB_STEPID, &task->step);
    return 0;
}

int slurm_spank_init(spank_t spank, int argc, char **argv)
{
    /* srun, sbatch, salloc and slurmd load the plugin too; only slurmstepd has tasks. */
    if (!spank_remote(spank))
        return 0;
    char error[256];
    if (tracer_config_parse(&config, argc, argv, error, sizeof error) != 0) {
        slurm_error("write-tracer: %s", error);
        return -1;
    }
    active = 1;
    return 0;
}

int slurm_spank_task_post_fork(spank_t spank, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct task task;
    if (!active)
        return 0;
    if (describe_task(spank, &task) != 0)
        return config.required ? -1 : 0;
    struct tracer_reply reply;
    if (tracer_register(&config, task.pid, &reply) != 0) {
        slurm_error("write-tracer: task %d (pid %d) of job %u.%u not traced: %s", task.id, (int)task.pid, task.job,
                    task.step, reply.detail);
        return config.required ? -1 : 0;
    }
    switch (reply.status) {
    case 201:
        slurm_verbose("write-tracer: tracing task %d (pid %d) of job %u.%u", task.id, (int)task.pid, task.job,
                      task.step);
        return 0;
    case 409: /* already traced, e.g. as a descendant of a registered process */
        slurm_verbose("write-tracer: task %d (pid %d) of job %u.%u already traced: %s", task.id, (int)task.pid,
                      task.job, task.step, reply.detail);
        return 0;
    default:
        slurm_error("write-tracer: task %d (pid %d) of job %u.%u not traced: %s answered %d %s", task.id,
                    (int)task.pid, task.job, task.step, config.endpoint, reply.status, reply.detail);
        return config.required ? -1 : 0;
    }
}

/*
 * The tracer drops an exited process by itself as the kernel reports its exit;
 * unregistering here also untracks descendants the task left running. Nothing depends on it, so it never fails the task.
 */
int slurm_spank_task_exit(spank_t spank, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct task task;
    if (!active || describe_task(spank, &task) != 0)
        return 0;
    struct tracer_reply reply;
    if (tracer_unregister(&config, task.pid, &reply) != 0)
        slurm_error("write-tracer: task %d (pid %d) of job %u.%u not unregistered: %s", task.id, (int)task.pid,
                    task.job, task.step, reply.detail);
    else if (reply.status == 200 || reply.status == 404) /* 404: the tracer saw it exit first */
        slurm_debug("write-tracer: task %d (pid %d) of job %u.%u no longer traced", task.id, (int)task.pid, task.job,
                    task.step);
    else
        slurm_error("write-tracer: task %d (pid %d) of job %u.%u not unregistered: %s answered %d %s", task.id,
                    (int)task.pid, task.job, task.step, config.endpoint, reply.status, reply.detail);
    return 0;
}
