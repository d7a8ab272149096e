/** What a unit's ActiveState means to podunit. */

/** True while systemd has the unit up or on its way up or down: anything but inactive, failed or not loaded. */
export function isLive(activeState: string | null | undefined): boolean {
  return activeState !== undefined && activeState !== null && activeState !== "inactive" && activeState !== "failed";
}
