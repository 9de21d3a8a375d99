// Public entry of registrar. Exports are added as the package grows.
export {};
