// Public entry of b2bua. Exports are added as the package grows.
export {};
