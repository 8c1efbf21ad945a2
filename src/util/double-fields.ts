/**
 * V8 gives an object's field the representation of the first value stored in it. A field that starts at
 * 0 is a small integer (Smi) field; when it later holds a number past the small-integer range (2^30 on
 * this build: about 1.07 s of simulated nanoseconds, or as many retired instructions), the field becomes
 * a double field, every object of that hidden class moves to a new one, and every optimised function
 * that relied on the old one is thrown away. For a CPU's clock that was every method of every CPU, at
 * once, in each worker thread's isolate — measured as a storm of recompiles around 1.1 s of simulated
 * time that doubled the cost of that stretch. Storing a double first makes the field a double field
 * from the start.
 */
export function asDoubleFields<T extends object>(obj: T, ...keys: (keyof T & string)[]): void {
  const o = obj as unknown as Record<string, number>;
  for (const k of keys) {
    const v = o[k];
    o[k] = 0.5;
    o[k] = v;
  }
}
