/**
 * A promise queue that runs one task at a time, in call order. A PKCS#11 session allows one
 * operation at a time (C_SignInit … C_Sign must not interleave), so every use of a token's session
 * goes through its queue. A failed task does not stop the ones after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
