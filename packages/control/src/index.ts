// Public entry of control. Exports are added as the package grows.
export {};
