export interface RuntimePackage {
  name: string;
  version: string;
  license: string;
  text: string | null;
}
export function runtimePackages(): RuntimePackage[];
export function renderNotices(packages: RuntimePackage[]): string;
