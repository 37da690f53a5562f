#ifndef GRADUS_HOST_SIGNALS_H
#define GRADUS_HOST_SIGNALS_H
/* Async-signal-safe pieces of the host that Swift cannot write safely: interrupt flags for
 * SIGINT/SIGTERM and a fatal-signal reporter that names the plugin call in progress.
 * Host-internal; not part of the plugin ABI (SDK/include/gradus). */

/* Installs SIGINT and SIGTERM handlers that only record the signal; a second delivery of the
 * same signal takes the default action (so a second Ctrl-C ends the process at once). */
void gradus_host_install_interrupt_handlers(void);
/* The first interrupting signal received (SIGINT or SIGTERM), or 0. */
int gradus_host_interrupt_signal(void);
/* Forgets a recorded interrupt (tests). */
void gradus_host_clear_interrupt(void);

/* Installs handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT and SIGTRAP (on an alternate
 * stack) that write one line naming the signal and the plugin call in progress, then end the
 * process by the same signal with the default action. */
void gradus_host_install_crash_reporter(void);
/* The plugin call in progress, e.g. "plugin gradus.adam, call step", or NULL outside plugin code.
 * Borrowed: the text must stay valid until it is replaced (the host keeps one string per call). */
void gradus_host_set_plugin_call(const char *text);
const char *gradus_host_plugin_call(void);
/* A note appended to the fatal line, e.g. "the last completed checkpoint is ck.safetensors
 * (epoch 3)". Copied (at most 1023 bytes), so the caller keeps ownership. */
void gradus_host_set_crash_note(const char *text);

/* Asks the kernel to send SIGTERM to this process when its parent ends (Linux prctl
   PR_SET_PDEATHSIG); returns 0, or -1 when the parent is already gone (the caller should stop).
   A comparison's child runs call it so that they never outlive the comparison. */
int gradus_host_terminate_with_parent(void);

#endif
