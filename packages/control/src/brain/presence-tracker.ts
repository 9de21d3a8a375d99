/**
 * Registered devices per user, from the edge's registration events (live state, not persisted).
 * A device whose contact stopped answering the edge's OPTIONS qualify stays registered but is not
 * online until it answers again (or registers afresh).
 */
export class PresenceTracker {
  #online = new Map<string, Set<string>>();
  /** Registered devices whose contact is unreachable, per user. */
  #unreachable = new Map<string, Set<string>>();

  registered(userId: string, deviceId: string): void {
    add(this.#online, userId, deviceId);
  }

  unregistered(userId: string, deviceId: string): void {
    remove(this.#online, userId, deviceId);
    remove(this.#unreachable, userId, deviceId);
  }

  /** The device's contact stopped answering: kept registered, not online. */
  unreachable(userId: string, deviceId: string): void {
    if (this.#online.get(userId)?.has(deviceId) === true) add(this.#unreachable, userId, deviceId);
  }

  reachable(userId: string, deviceId: string): void {
    remove(this.#unreachable, userId, deviceId);
  }

  /** Whether the user has a registered device whose contact is not known to be unreachable. */
  isOnline(userId: string): boolean {
    return this.onlineDevices(userId).length > 0;
  }

  onlineDevices(userId: string): readonly string[] {
    const devices = this.#online.get(userId);
    if (devices === undefined) return [];
    const down = this.#unreachable.get(userId);
    return down === undefined ? [...devices] : [...devices].filter((d) => !down.has(d));
  }

  /** Registered devices whose contact is unreachable. */
  unreachableDevices(userId: string): readonly string[] {
    return [...(this.#unreachable.get(userId) ?? [])];
  }
}

function add(map: Map<string, Set<string>>, userId: string, deviceId: string): void {
  let devices = map.get(userId);
  if (devices === undefined) {
    devices = new Set();
    map.set(userId, devices);
  }
  devices.add(deviceId);
}

function remove(map: Map<string, Set<string>>, userId: string, deviceId: string): void {
  const devices = map.get(userId);
  if (devices === undefined) return;
  devices.delete(deviceId);
  if (devices.size === 0) map.delete(userId);
}
