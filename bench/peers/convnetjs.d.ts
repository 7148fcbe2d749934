// Minimal typings for convnetjs 0.3.0 (it ships none): only what bench:peers uses.
declare module 'convnetjs' {
  namespace convnetjs {
    /** A 3-D volume: values `w` and gradients `dw`, sx·sy·depth long (Float64Array where available). */
    class Vol {
      constructor(sx: number, sy: number, depth: number, c?: number);
      sx: number;
      sy: number;
      depth: number;
      w: Float64Array;
      dw: Float64Array;
    }
    interface LayerDef {
      type: 'input' | 'conv' | 'pool' | 'fc' | 'softmax' | 'regression';
      [option: string]: string | number | undefined;
    }
    interface Layer {
      layer_type: string;
      out_sx: number;
      out_sy: number;
      out_depth: number;
    }
    class Net {
      layers: Layer[];
      makeLayers(defs: LayerDef[]): void;
      forward(v: Vol, isTraining?: boolean): Vol;
    }
    interface TrainerOptions {
      method?: 'sgd' | 'adagrad' | 'adadelta' | 'windowgrad';
      learning_rate?: number;
      momentum?: number;
      batch_size?: number;
      l2_decay?: number;
    }
    interface TrainResult {
      cost_loss: number;
      loss: number;
    }
    class Trainer {
      constructor(net: Net, options?: TrainerOptions);
      /** One image: a class index for softmax, the target vector for regression. */
      train(x: Vol, y: number | number[]): TrainResult;
    }
  }
  export = convnetjs;
}
