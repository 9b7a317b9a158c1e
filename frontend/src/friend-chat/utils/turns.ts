// One at a time, first come first served: `take(id)` resolves when it is that id's turn, `done()`
// passes the turn on, `skip(id, reason)` takes a waiting id out of the line (its take rejects).
export function createTurns() {
  const line: { id: string; go: () => void; stop: (reason: unknown) => void }[] = [];
  let busy = false;

  function take(id: string): Promise<void> {
    if (!busy) {
      busy = true;
      return Promise.resolve();
    }
    return new Promise((go, stop) => line.push({ id, go, stop }));
  }

  function done(): void {
    const waiting = line.shift();
    if (waiting) waiting.go();
    else busy = false;
  }

  function skip(id: string, reason: unknown): void {
    const at = line.findIndex((w) => w.id === id);
    if (at !== -1) line.splice(at, 1)[0]!.stop(reason);
  }

  function clear(reason: unknown): void {
    for (const w of line.splice(0)) w.stop(reason);
  }

  return { take, done, skip, clear };
}
