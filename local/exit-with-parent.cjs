// Preloaded (node --require) into child processes of the local stack. The children run in their own
// process group so that Ctrl-C reaches only the stack, which drains and then stops them; this makes
// them exit too when the stack dies without cleaning up (SIGKILL), instead of holding the ports.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 500).unref();
