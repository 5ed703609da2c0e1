// A tiny typed topic emitter and a requestAnimationFrame render scheduler.
//
// State changes emit topics at MD speed; views subscribe and call
// `schedule(render)`, so each view draws at most once per animation frame
// however many events arrived in between.

export class Emitter<T extends string> {
  private subs = new Map<T, Set<() => void>>();

  on(topic: T, fn: () => void): () => void {
    let set = this.subs.get(topic);
    if (!set) this.subs.set(topic, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  emit(topic: T): void {
    const set = this.subs.get(topic);
    if (set) for (const fn of set) fn();
  }
}

const dirty = new Set<() => void>();
let frameRequested = false;

function flush(): void {
  frameRequested = false;
  const fns = [...dirty];
  dirty.clear();
  for (const fn of fns) {
    try {
      fn();
    } catch (err) {
      console.error("render failed", err);
    }
  }
}

/** Runs `render` once on the next animation frame (coalesced). */
export function schedule(render: () => void): void {
  dirty.add(render);
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(flush);
  }
}
