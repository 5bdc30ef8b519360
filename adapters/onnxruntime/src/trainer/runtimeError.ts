import { GradpipeError } from '@gradpipe/core';

/**
 * An error ONNX Runtime threw, as a GradpipeError naming the public function that was called (ONNX Runtime's
 * own message kept, and the original as `cause`), so that every refusal of the package is a GradpipeError.
 */
export function runtimeError(fn: string, what: string, error: unknown): GradpipeError {
  if (error instanceof GradpipeError) return error;
  const wrapped = new GradpipeError(fn, `ONNX Runtime ${what}: ${error instanceof Error ? error.message : String(error)}`);
  Object.defineProperty(wrapped, 'cause', { value: error, enumerable: false, writable: true, configurable: true });
  return wrapped;
}

/** `ort.InferenceSession.create`, its errors (a bad sessionOptions value, a graph it refuses) as GradpipeErrors. */
export async function openSession<S>(fn: string, open: () => Promise<S>): Promise<S> {
  try {
    return await open();
  } catch (e) {
    throw runtimeError(fn, 'could not open a session (check sessionOptions)', e);
  }
}
