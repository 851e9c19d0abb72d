/*
 * A stand-in for slurmstepd, so tests run the real SPANK plugin without Slurm:
 * it provides the spank_* and logging functions spank.h declares (link with
 * -rdynamic so the plugin resolves them here), loads the plugin with the checks
 * Slurm's loader makes, and calls its hooks in slurmstepd's order for one task.
 *
 *   spank_harness remote|local PLUGIN.so PID [PLUGIN_ARGUMENT...]
 *
 * Prints "init=R task_post_fork=R task_exit=R" (each hook's return value) on
 * stdout and the plugin's log lines as "LEVEL: message" on stderr. As in Slurm,
 * every hook is called even when init failed.
 */
#include <dlfcn.h>
#include <slurm/spank.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct spank_handle {
    pid_t task_pid;
};

static spank_context_t context = S_CTX_REMOTE;

spank_context_t spank_context(void)
{
    return context;
}

int spank_remote(spank_t spank)
{
    (void)spank;
    return context == S_CTX_REMOTE;
}

spank_err_t spank_get_item(spank_t spank, spank_item_t item, ...)
{
    va_list args;
    va_start(args, item);
    spank_err_t result = ESPANK_SUCCESS;
    switch (item) {
    case S_TASK_PID:
        *va_arg(args, pid_t *) = spank->task_pid;
        break;
    case S_TASK_ID:
        *va_arg(args, int *) = 0;
        break;
    case S_JOB_ID:
        *va_arg(args, uint32_t *) = 77;
        break;
    case S_JOB_STEPID:
        *va_arg(args, uint32_t *) = 3;
        break;
    default:
        result = ESPANK_NOT_AVAIL;
    }
    va_end(args);
    return result;
}

static void log_line(const char *level, const char *format, va_list args)
{
    fprintf(stderr, "%s: ", level);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
}

#define LOG_FUNCTION(name, level)              \
    void name(const char *format, ...)          \
    {                                           \
        va_list args;                           \
        va_start(args, format);                 \
        log_line(level, format, args);          \
        va_end(args);                           \
    }

LOG_FUNCTION(slurm_error, "error")
LOG_FUNCTION(slurm_info, "info")
LOG_FUNCTION(slurm_verbose, "verbose")
LOG_FUNCTION(slurm_debug, "debug")
LOG_FUNCTION(slurm_debug2, "debug2")
LOG_FUNCTION(slurm_debug3, "debug3")
LOG_FUNCTION(slurm_spank_log, "spank")

static void *symbol(void *plugin, const char *name)
{
    void *address = dlsym(plugin, name);
    if (address == NULL) {
        fprintf(stderr, "harness: the plugin does not define %s\n", name);
        exit(3);
    }
    return address;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "remote") != 0 && strcmp(argv[1], "local") != 0)) {
        fprintf(stderr, "usage: spank_harness remote|local PLUGIN.so PID [PLUGIN_ARGUMENT...]\n");
        return 2;
    }
    context = strcmp(argv[1], "remote") == 0 ? S_CTX_REMOTE : S_CTX_LOCAL;
    /* RTLD_NOW: like Slurm, fail here if the plugin needs a symbol nobody provides. */
    void *plugin = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    if (plugin == NULL) {
        fprintf(stderr, "harness: %s\n", dlerror());
        return 3;
    }
    /* What Slurm's plugin loader checks before it calls anything. */
    const char *type = symbol(plugin, "plugin_type");
    const unsigned int *version = symbol(plugin, "plugin_version");
    symbol(plugin, "plugin_name");
    if (strcmp(type, "spank") != 0 || SLURM_VERSION_MAJOR(*version) != SLURM_VERSION_MAJOR(SLURM_VERSION_NUMBER) ||
        SLURM_VERSION_MINOR(*version) != SLURM_VERSION_MINOR(SLURM_VERSION_NUMBER)) {
        fprintf(stderr, "harness: plugin_type '%s', plugin_version %#x: not a SPANK plugin for this Slurm\n", type,
                *version);
        return 3;
    }

    struct spank_handle handle = {.task_pid = (pid_t)atoi(argv[3])};
    int plugin_argc = argc - 4;
    char **plugin_argv = argv + 4;
    static const char *const hooks[] = {"slurm_spank_init", "slurm_spank_task_post_fork", "slurm_spank_task_exit"};
    for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++) {
        spank_f *hook = (spank_f *)symbol(plugin, hooks[i]);
        int result = hook(&handle, plugin_argc, plugin_argv);
        printf("%s%s=%d", i == 0 ? "" : " ", hooks[i] + strlen("slurm_spank_"), result);
    }
    printf("\n");
    dlclose(plugin);
    return 0;
}
