/**
 * Thrown by a `before` handler to refuse an action. The client sees `<plugin>: <message>`
 * (403, or 400 on upload so twine prints it); nothing is written but the record of the refusal.
 */
export class HookVeto extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HookVeto';
  }
}

/** A veto as the core raises it: the plugin that vetoed is known by now. */
export class HookVetoError extends Error {
  constructor(
    readonly plugin: string,
    readonly hook: string,
    readonly reason: string,
  ) {
    super(`${plugin}: ${reason}`);
    this.name = 'HookVetoError';
  }
}
