export const DEV_ORIGIN_FILE: string;
export function writeDevOrigin(origin: string, file?: string): void;
export function removeDevOrigin(file?: string): void;
export function readDevOrigin(file?: string): string | undefined;
