import { Observable, type Observer, type Operator, type Subscriber, type Subscription, type TeardownLogic } from 'rxjs';

/** The default `onSubscriberError`: a warning, and training goes on. */
export function warnSubscriberError(error: unknown): void {
  console.error('gradpipe: an events$ subscriber threw; training goes on.', error);
}

/**
 * An Observable whose subscribers cannot hurt the producer: an exception thrown by a subscriber's callback
 * (or by an operator function piped onto it), and the rejection of an `async` callback, are handed to `onError`
 * instead of rxjs's default, which rethrows it asynchronously and crashes a Node process. Operators piped onto it keep the guard, so
 * `events$.pipe(map(f)).subscribe(g)` is as safe as `events$.subscribe(g)`.
 *
 * @example
 * ```ts
 * import { GuardedObservable } from '@gradpipe/core';
 * const numbers$ = new GuardedObservable<number>((error) => console.warn('a subscriber failed:', error), (subscriber) => {
 *   subscriber.next(1);
 *   subscriber.next(2);
 * });
 * numbers$.subscribe((n) => {
 *   if (n === 1) throw new Error('oops'); // reported to the handler; 2 is still delivered
 * });
 * ```
 */
export class GuardedObservable<T> extends Observable<T> {
  constructor(
    private readonly onError: (error: unknown) => void,
    subscribe?: (this: Observable<T>, subscriber: Subscriber<T>) => TeardownLogic,
  ) {
    super(subscribe);
  }

  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    const lifted = new GuardedObservable<R>(this.onError);
    lifted.source = this;
    lifted.operator = operator;
    return lifted;
  }

  /** Subscribes like any Observable; exceptions thrown by the callbacks go to `onError`. */
  override subscribe(observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null): Subscription {
    const observer: Partial<Observer<T>> = typeof observerOrNext === 'function' ? { next: observerOrNext } : (observerOrNext ?? {});
    const onError = this.onError;
    const guard =
      <A extends unknown[]>(fn: ((...args: A) => void) | undefined, self: unknown) =>
      (...args: A) => {
        try {
          const returned: unknown = fn?.apply(self, args);
          // An async subscriber fails by rejecting: that must reach onError too, not become an unhandled rejection.
          if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function')
            (returned as PromiseLike<unknown>).then(undefined, onError);
        } catch (error) {
          onError(error);
        }
      };
    return super.subscribe({
      next: guard(observer.next, observer),
      // An error reaching the end of the chain (e.g. thrown inside a map) goes to onError when nobody handles it.
      error: observer.error ? guard(observer.error, observer) : (error: unknown) => onError(error),
      complete: guard(observer.complete, observer),
    });
  }
}
