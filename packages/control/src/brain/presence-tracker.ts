/** Registered devices per user, from the edge's registration events (live state, not persisted). */
export class PresenceTracker {
  #online = new Map<string, Set<string>>();

  registered(userId: string, deviceId: string): void {
    let devices = this.#online.get(userId);
    if (devices === undefined) {
      devices = new Set();
      this.#online.set(userId, devices);
    }
    devices.add(deviceId);
  }

  unregistered(userId: string, deviceId: string): void {
    const devices = this.#online.get(userId);
    if (devices === undefined) return;
    devices.delete(deviceId);
    if (devices.size === 0) this.#online.delete(userId);
  }

  isOnline(userId: string): boolean {
    return this.#online.has(userId);
  }

  onlineDevices(userId: string): readonly string[] {
    return [...(this.#online.get(userId) ?? [])];
  }
}
